"""Why the inference core refuses or fails a request. The API maps each class to its HTTP status
(`plume.api.problems.STATUS`); here they are plain exceptions with a French `detail`."""

from __future__ import annotations

from plume.errors import Refusal


class InferenceRefusal(Refusal):
    """Base of the inference core's refusals."""


class UnknownModel(InferenceRefusal):
    code = "unknown-model"


class ModelLoading(InferenceRefusal):
    code = "model-loading"


class InvalidOptions(InferenceRefusal):
    code = "max-tokens"


class InputTooLong(InferenceRefusal):
    code = "input-too-long"


class QueueFull(InferenceRefusal):
    code = "queue-full"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Plume est très sollicité en ce moment : toutes les places de la file d'attente sont "
                         f"prises. Réessayez dans {retry_after} secondes.", retry_after=retry_after)


class GenerationTimeout(InferenceRefusal):
    code = "timeout"

    def __init__(self, limit_s: float) -> None:
        super().__init__(f"La génération a dépassé le temps maximal de {limit_s:g} secondes et a été arrêtée. "
                         "Essayez avec un texte plus court.")


class GenerationFailed(InferenceRefusal):
    code = "engine-error"

    def __init__(self, model: str) -> None:
        super().__init__(f"Le modèle « {model} » a rencontré une erreur pendant la génération. Le service "
                         "informatique peut consulter le journal du serveur.")


class UpstreamUnavailable(InferenceRefusal):
    code = "upstream"

    def __init__(self, url: str) -> None:
        super().__init__(f"Le serveur de modèles {url} ne répond pas ou a renvoyé une erreur. Réessayez dans "
                         "un instant ; si cela persiste, prévenez le service informatique.")


class UpstreamRefused(InferenceRefusal):
    code = "upstream-refused"
