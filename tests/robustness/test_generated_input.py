"""Generated input: schemathesis sends every operation of the OpenAPI document valid and invalid
requests, and checks every answer against the document with all its checks (server errors,
status codes, content types, headers, bodies, refusal of invalid data, acceptance of valid data,
unsupported methods).

The schema comes from the app itself; the requests go straight to the ASGI app, the edge layer
included. A fixed seed and a bounded number of examples per operation keep the run short and the
same on every machine.
"""

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from app.config import Settings
from app.main import create_api, create_app
from app.services.search import words

EXAMPLES_PER_OPERATION = 40

# A URL longer than the server takes is refused with 414 whatever its parameters, valid or not.
# A data version is the server's to issue: one it never loaded is Gone (410), as documented.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 414, 415, 422, 428, 429]
            },
            "positive_data_acceptance": {"expected-statuses": ["2xx", "3xx", 404, 414]},
        },
        "operations": [
            {
                "include-path": "/v1/changes",
                "checks": {
                    "positive_data_acceptance": {"expected-statuses": ["2xx", 404, 410, 414]}
                },
            }
        ],
    }
)
schema = schemathesis.openapi.from_dict(create_api().openapi(), config=CONFIG)


@pytest.fixture(scope="module")
def app(seed_url: str) -> Any:
    return create_app(Settings(database_url=seed_url))


def _valid_only_in_form(case: schemathesis.Case[Any]) -> bool:
    """Whether a case the schema allows asks for what a schema cannot rule out: a cursor this
    API never issued (cursors are opaque; an empty one is no cursor), words to find (q) with no
    word in them, or a range whose from is later than its to."""
    negative = case.meta is not None and not case.meta.generation.mode.is_positive
    if negative or not case.query:
        return False
    query = case.query
    wordless = "q" in query and not words(str(query["q"]))
    backward = isinstance(query.get("from"), str) and str(query["from"]) > str(query.get("to", "~"))
    return (
        bool(query.get("cursor"))
        or (case.path in ("/v1/search", "/v1/facts") and wordless)
        or backward
    )


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_every_operation_answers_as_its_document_says(
    case: schemathesis.Case[Any], app: Any
) -> None:
    if _valid_only_in_form(case):
        # Every other check still applies; the answer must be a 400 naming the parameter.
        response = case.call_and_validate(
            app=app, excluded_checks=[checks.positive_data_acceptance]
        )
        assert response.status_code in (400, 414), response.text
        return
    case.call_and_validate(app=app)


APIWorkflow = schema.as_state_machine()


def test_linked_calls_answer_as_their_document_says(app: Any) -> None:
    """The stateful phase: schemathesis follows what one answer gives (an id in a list) into the
    next call (that record's detail), with every check on each answer."""

    class Workflow(APIWorkflow):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, _case: schemathesis.Case[Any]) -> dict[str, Any]:
            return {"app": app}

        def validate_response(
            self, response: Any, case: schemathesis.Case[Any], **kwargs: Any
        ) -> None:
            if not _valid_only_in_form(case):
                super().validate_response(response, case, **kwargs)
                return
            # Every other check still applies; the answer must be a 400 naming the parameter.
            assert response.status_code in (400, 414), response.text
            case.validate_response(
                response,
                excluded_checks=[checks.positive_data_acceptance],
                transport_kwargs=kwargs,
                recorder=self.recorder,
            )

    Workflow.run(
        settings=settings(
            max_examples=EXAMPLES_PER_OPERATION,
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
    )
