"""What the audit of issue 16 added to the public contract, as the API shows it: a fact's timing,
date windows, who raised an open question, hedge overrides; a wave's tie to a force with its
status and evidence; a force's origin; and posture saying how firm a figure's force is."""

from typing import Any

from fastapi.testclient import TestClient


def get(client: TestClient, path: str) -> dict[str, Any]:
    response = client.get(path)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_a_fact_shows_its_timing_words(client: TestClient) -> None:
    fact = get(client, "/v1/facts/fact-more-troops-expected")
    assert fact["timing"] == "in the coming weeks and months"
    assert get(client, "/v1/facts/fact-initial-wave-1500")["timing"] is None


def test_earlier_this_week_is_a_window_of_days(client: TestClient) -> None:
    fact = get(client, "/v1/facts/fact-readiness-request-up-to-10000")
    assert fact["date"]["date"] == "2025-01-20"
    assert fact["date"]["latest"] == "2025-01-21"
    assert fact["valid_from"]["latest"] == "2025-01-21"
    wave = get(client, "/v1/waves/readiness-request-10000")
    assert wave["dates"][0]["date"]["latest"] == "2025-01-21"


def test_an_open_question_no_one_raised_is_muster_s(client: TestClient) -> None:
    fact = get(client, "/v1/facts/fact-later-waves-size-unknown")
    assert fact["raised_by"] == "muster"
    assert [c["attributed_to"] for c in fact["citations"]] == [None]
    assert get(client, "/v1/facts/fact-armed-unclear")["raised_by"] == "source"


def test_a_hedge_override_is_shown_with_its_reason(client: TestClient) -> None:
    override = get(client, "/v1/facts/fact-pushback-reasons")["hedge_override"]
    assert override["hedges"] == ["could"]
    assert "belief" in override["reason"]
    assert get(client, "/v1/facts/fact-initial-wave-1500")["hedge_override"] is None


def test_a_wave_s_tie_to_its_force_has_a_status_and_evidence(client: TestClient) -> None:
    wave = get(client, "/v1/waves/initial-wave")
    assert wave["joins"]["id"] == "jtf-north"
    assert wave["joins_status"] == "expected"
    assert wave["joins_fact"]["id"] == "fact-additional-troops-augment-jtf-north"
    listed = {w["id"]: w for w in get(client, "/v1/waves")["data"]}
    assert listed["standing-presence"]["joins_status"] == "reported"


def test_a_force_shows_its_origin_in_the_source_s_words(client: TestClient) -> None:
    force = get(client, "/v1/forces/marines-camp-pendleton")
    assert force["origin"] == "Camp Pendleton and the 1st Marine Division in San Diego"
    assert force["base"] is None
    assert force["aliases"] == []


def test_posture_says_the_initial_wave_is_only_expected_under_jtf_north(
    client: TestClient,
) -> None:
    figures = get(client, "/v1/posture")["figures"]
    [size] = [f for f in figures if f["wave"]["id"] == "initial-wave" and f["part"] == "size"]
    assert size["force"]["id"] == "jtf-north"
    assert size["status"] == "ordered"
    assert size["force_status"] == "expected"
    [standing] = [f for f in figures if f["wave"]["id"] == "standing-presence"]
    assert standing["force_status"] == "reported"
    [growth] = [f for f in figures if f["wave"]["id"] == "marines-growth-2500"]
    assert growth["force"] is None
    assert growth["force_status"] is None
