/* The letter form, built from a template's field list (GET /v1/templates/{id}): one input per field, a
 * small table for a list whose entries have columns; read back as the `values` the render route takes,
 * filled from what extraction found, and marked where the server says a value is wrong. */
(function () {
  "use strict";
  var P = window.Plume, $ = P.$, t = P.t;

  function fieldId(name) { return "field-" + name; }

  function build(form, fields) {
    form.innerHTML = "";
    fields.forEach(function (field) { form.appendChild(fieldRow(field)); });
  }

  function fieldRow(field) {
    var row = document.createElement("div");
    row.className = "row field";
    row.setAttribute("data-field", field.name);
    var label = document.createElement("label");
    label.htmlFor = fieldId(field.name);
    label.id = fieldId(field.name) + "-label";
    label.textContent = field.label || field.name;
    if (field.required) {
      var star = document.createElement("span");
      star.className = "required";
      star.textContent = " *";
      star.title = t("templates.required");
      label.appendChild(star);
    }
    row.appendChild(label);
    var input = inputFor(field);
    input.id = fieldId(field.name);
    if (input.getAttribute("role") === "group") input.setAttribute("aria-labelledby", label.id);
    input.name = field.name;
    if (field.required) input.setAttribute("aria-required", "true");
    row.appendChild(input);
    var help = helpFor(field);
    if (help) {
      input.setAttribute("aria-describedby", help.id);
      row.appendChild(help);
    }
    return row;
  }

  function helpFor(field) {
    var lines = field.type === "list" && !field.columns.length;
    var text = field.help || (lines ? t("templates.listHelp") : "");
    if (!text) return null;
    var help = document.createElement("p");
    help.className = "help";
    help.id = fieldId(field.name) + "-help";
    help.textContent = text + (lines && field.help ? " (" + t("templates.listHelp") + ")" : "");
    return help;
  }

  function inputFor(field) {
    if (field.type === "list" && field.columns.length) return tableFor(field);
    var input;
    if (field.type === "choice") {
      input = document.createElement("select");
      input.add(new Option(t("templates.choose"), ""));
      field.choices.forEach(function (choice) { input.add(new Option(choice, choice)); });
    } else if (field.type === "list") {
      input = document.createElement("textarea");
      input.rows = 3;
    } else if (field.type === "bool") {
      input = document.createElement("input");
      input.type = "checkbox";
    } else {
      input = document.createElement("input");
      input.type = field.type === "date" ? "date" : (field.type === "money" ? "number" : "text");
      if (field.type === "money") input.step = "0.05";
      if (field.example !== undefined && field.example !== null && field.type !== "date") input.placeholder = String(field.example);
    }
    input.setAttribute("data-type", field.type || "text");
    return input;
  }

  /* ---------- a list whose entries have columns (e.g. fees: label + amount), edited as a small table ---------- */

  function tableFor(field) {
    var group = document.createElement("div");
    group.className = "list-table";
    group.setAttribute("role", "group");
    var rows = document.createElement("div");
    rows.className = "list-rows";
    group.appendChild(rows);
    var add = document.createElement("button");
    add.type = "button";
    add.className = "secondary";
    add.textContent = t("templates.addRow");
    add.addEventListener("click", function () { addTableRow(group, field, {}).querySelector("input").focus(); });
    group.appendChild(add);
    setTable(group, field, Array.isArray(field.example) ? field.example : []);
    return group;
  }

  function addTableRow(group, field, values) {
    var row = document.createElement("div");
    row.className = "list-row";
    field.columns.forEach(function (column) { row.appendChild(cellFor(column, values[column.name])); });
    var remove = document.createElement("button");
    remove.type = "button";
    remove.className = "secondary remove";
    remove.textContent = "×";
    remove.setAttribute("aria-label", t("templates.removeRow"));
    remove.addEventListener("click", function () { row.parentNode.removeChild(row); });
    row.appendChild(remove);
    group.querySelector(".list-rows").appendChild(row);
    return row;
  }

  function cellFor(column, value) {
    var input = document.createElement("input");
    input.type = column.type === "money" ? "number" : (column.type === "date" ? "date" : "text");
    if (column.type === "money") input.step = "0.05";
    input.setAttribute("data-column", column.name);
    input.setAttribute("data-type", column.type || "text");
    input.setAttribute("aria-label", column.label || column.name);
    input.placeholder = column.label || column.name;
    if (value !== undefined && value !== null) input.value = String(value);
    return input;
  }

  function setTable(group, field, entries) {
    group.querySelector(".list-rows").innerHTML = "";
    entries.forEach(function (entry) { addTableRow(group, field, entry || {}); });
  }

  /* The rows with something typed in, in order: the entries sent, so the server's row n is the n-th of these. */
  function filledRows(group) {
    return Array.prototype.filter.call(group.querySelectorAll(".list-row"), function (row) {
      return Array.prototype.some.call(row.querySelectorAll("input"), function (input) { return input.value.trim() !== ""; });
    });
  }

  function readTable(group) {
    return filledRows(group).map(function (row) {
      var entry = {};
      Array.prototype.forEach.call(row.querySelectorAll("input"), function (input) {
        var value = input.value.trim();
        input.removeAttribute("aria-invalid");
        entry[input.getAttribute("data-column")] = input.getAttribute("data-type") === "money" && value !== "" ? Number(value) : value;
      });
      return entry;
    });
  }

  /* ---------- reading, filling, marking ---------- */

  /* The values of the filled fields; a required one left empty is marked and named in a user error. */
  function values(fields) {
    var found = {}, missing = [];
    fields.forEach(function (field) {
      var input = $(fieldId(field.name)), value = valueOf(field, input);
      var empty = value === "" || (Array.isArray(value) && !value.length);
      input.setAttribute("aria-invalid", field.required && empty ? "true" : "false");
      if (field.required && empty) missing.push(field.label || field.name);
      if (!empty) found[field.name] = value;
    });
    if (missing.length) throw P.userError(t("error.required", { fields: missing.join(", ") }));
    return found;
  }

  function valueOf(field, input) {
    if (input.classList.contains("list-table")) return readTable(input);
    if (field.type === "bool") return input.checked;
    if (field.type === "list") return input.value.split(/\n/).map(function (s) { return s.trim(); }).filter(Boolean);
    if (field.type === "money") return input.value === "" ? "" : Number(input.value);
    return input.value.trim();
  }

  /* What extraction found, in the form; the fields it doubts or could not find (names) flagged. Returns
   * how many fields were filled. */
  function fill(fields, found, doubtful) {
    var filled = 0;
    fields.forEach(function (field) {
      var input = $(fieldId(field.name)), value = found[field.name];
      if (!input || value === undefined || value === null) return;
      if (input.classList.contains("list-table")) setTable(input, field, Array.isArray(value) ? value : []);
      else if (field.type === "bool") input.checked = !!value;
      else if (Array.isArray(value)) input.value = value.join("\n");
      else input.value = String(value);
      filled++;
    });
    Array.prototype.forEach.call(document.querySelectorAll("#template-form .field"), function (row) {
      flag(row, doubtful.indexOf(row.getAttribute("data-field")) !== -1);
    });
    return filled;
  }

  function flag(row, flagged) {
    row.classList.toggle("uncertain", flagged);
    var badge = row.querySelector(".badge");
    if (flagged && !badge) {
      badge = document.createElement("span");
      badge.className = "badge";
      badge.textContent = t("templates.uncertain");
      row.querySelector("label").appendChild(badge);
    } else if (!flagged && badge) badge.parentNode.removeChild(badge);
  }

  /* The fields (and table cells) a 422 names. Each of the problem's `errors` says where its value is in
   * `values` with `path` (["nom"], or ["emoluments", 0, "montant"] for a row's column); an error that is
   * not about one value (the template's own settings) has none. */
  function markInvalid(errors) {
    (errors || []).forEach(function (error) {
      var path = error.path || [], input = path.length ? $(fieldId(path[0])) : null;
      if (!input) return;
      input.setAttribute("aria-invalid", "true");
      if (path.length < 3 || !input.classList.contains("list-table")) return;
      var row = filledRows(input)[path[1]];
      var cell = row && Array.prototype.filter.call(row.querySelectorAll("input"), function (i) {
        return i.getAttribute("data-column") === path[2];
      })[0];
      if (cell) cell.setAttribute("aria-invalid", "true");
    });
  }

  P.templateForm = { build: build, values: values, fill: fill, markInvalid: markInvalid };
})();
