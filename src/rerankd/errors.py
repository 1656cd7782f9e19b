"""Domain errors raised by the core. The server maps them to each API dialect in one place."""

from __future__ import annotations


class RerankdError(Exception):
    """Base class of every error rerankd raises on purpose."""


class ConfigError(RerankdError, ValueError):
    """A setting has a value rerankd cannot use."""


class MissingExtraError(RerankdError):
    """An optional dependency is not installed (the message names the extra to install)."""


class ModelUnavailableError(RerankdError):
    """The model's weights could not be found or downloaded."""


class UnsupportedModelError(RerankdError):
    """The model's architecture is not one rerankd can score with."""


class InvalidInputError(RerankdError):
    """The caller's input is malformed (empty query, no documents, wrong types...)."""


class InputTooLongError(InvalidInputError):
    """An input exceeds its token budget and the caller asked for an error, not a cut."""


class TooManyDocumentsError(InvalidInputError):
    """More documents (or pairs, or prompts) in one request than the server can take."""


class OverloadedError(RerankdError):
    """The work queue is full; the caller should retry later."""

    def __init__(self, message: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RequestTimeoutError(RerankdError):
    """The request did not finish within its time limit."""


class BackendError(RerankdError):
    """The engine failed while scoring a batch."""
