// The API docs page: Swagger UI served by Plume itself. The description of the API needs the
// person's token: it is asked here, kept in this tab only (sessionStorage), and sent to this
// server alone, with every request the page makes ("Try it out" included).
"use strict";
(function () {
  var KEY = "plume-api-token";
  var input = document.getElementById("token");
  var status = document.getElementById("status");

  function say(text, error) {
    status.textContent = text;
    status.className = error ? "error" : "";
  }

  function show(token) {
    say("Chargement de la description de l'API…");
    fetch("/schema/openapi.json", { headers: { Authorization: "Bearer " + token } })
      .then(function (response) {
        if (response.status === 401) {
          sessionStorage.removeItem(KEY);
          throw new Error("Jeton refusé : vérifiez-le ou demandez-en un au service informatique.");
        }
        if (!response.ok) throw new Error("Le serveur a répondu " + response.status + ".");
        return response.json();
      })
      .then(function (spec) {
        say("");
        window.ui = SwaggerUIBundle({
          spec: spec,
          dom_id: "#swagger-ui",
          deepLinking: true,
          requestInterceptor: function (request) {
            request.headers = request.headers || {};
            if (!request.headers.Authorization) request.headers.Authorization = "Bearer " + token;
            return request;
          },
        });
      })
      .catch(function (error) { say(error.message, true); });
  }

  document.getElementById("show").addEventListener("click", function () {
    var token = input.value.trim();
    if (!token) { say("Collez d'abord votre jeton personnel (plm_…).", true); return; }
    sessionStorage.setItem(KEY, token);
    input.value = "";
    show(token);
  });
  document.getElementById("forget").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    document.getElementById("swagger-ui").textContent = "";
    say("Jeton oublié.");
  });
  var saved = sessionStorage.getItem(KEY);
  if (saved) show(saved);
})();
