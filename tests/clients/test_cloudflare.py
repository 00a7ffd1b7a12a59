"""The API client against a local server speaking the Cloudflare API's JSON: pages, rate limits, errors."""

from __future__ import annotations

import pytest

from infra.clients.cloudflare import CloudflareApi, CloudflareApiError, MissingTokenError
from infra.clients.network_limits import RetryPolicy
from tests.fakes.cloudflare import ZONE_ID, FakeCloudflare, custom_hostname, serve


@pytest.fixture
def fake():
    with serve(FakeCloudflare()) as server:
        yield server


def client(fake: FakeCloudflare, token: str | None = None, **options) -> tuple[CloudflareApi, list, list]:
    """An API client for the fake whose waits and notices are recorded instead of slept and printed."""
    slept, notices = [], []
    api = CloudflareApi.from_environment({"CLOUDFLARE_API_TOKEN": token or fake.token,
                                          "CLOUDFLARE_BASE_URL": fake.base_url},
                                         sleep=slept.append, notify=notices.append, **options)
    return api, slept, notices


def test_listing_asks_once_per_page_and_stops_at_total_pages(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(2500)]
    api, _, _ = client(fake)
    pages = []
    items = api.custom_hostnames(ZONE_ID, on_page=lambda page, total: pages.append((page, total)))
    assert [i["hostname"] for i in items] == [f"h{n:04}.example.com" for n in range(2500)]
    assert pages == [(1, 3), (2, 3), (3, 3)]
    assert fake.count("/custom_hostnames$") == 3  # no extra empty page past the end
    assert [q["per_page"] for _, _, q in fake.requests] == ["1000", "1000", "1000"]


def test_five_thousand_hostnames_cost_five_requests(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(5000)]
    api, _, _ = client(fake)
    assert len(api.custom_hostnames(ZONE_ID)) == 5000
    assert fake.count("/custom_hostnames$") == 5


def test_the_page_size_is_the_largest_the_spec_allows():
    from infra.clients.cloudflare import CUSTOM_HOSTNAMES_PER_PAGE
    from tests.contract.spec import Spec

    per_page = Spec.load().parameter("/zones/{zone_id}/custom_hostnames", "per_page")
    assert CUSTOM_HOSTNAMES_PER_PAGE == per_page["schema"]["maximum"] == 1000


def test_an_answer_promising_millions_of_pages_stops_at_the_first_short_page(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(1500)]
    fake.claimed_total_pages = 40_000_000
    api, _, _ = client(fake)
    pages = []
    assert len(api.custom_hostnames(ZONE_ID, on_page=lambda page, total: pages.append((page, total)))) == 1500
    assert fake.count("/custom_hostnames$") == 2
    assert pages == [(1, 51), (2, 51)]  # the progress bar shows the bound, not forty million


def test_an_empty_page_ends_the_listing_whatever_total_pages_says(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(2000)]
    fake.claimed_total_pages = 10**9
    api, _, _ = client(fake)
    assert len(api.custom_hostnames(ZONE_ID)) == 2000
    assert fake.count("/custom_hostnames$") == 3  # two full pages, then the empty one


def test_full_pages_beyond_what_a_zone_holds_are_refused_not_followed(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(3500)]
    fake.claimed_total_pages = 10**9
    api, _, _ = client(fake)
    with pytest.raises(CloudflareApiError) as caught:
        api.custom_hostnames(ZONE_ID, limit=2000)
    assert str(caught.value).startswith("Cloudflare listed more than 2,000 custom hostnames for this zone, more "
                                        "than a zone holds (stopped after 3 requests)")
    assert fake.count("/custom_hostnames$") == 3


def test_pages_repeating_what_was_already_listed_end_the_listing(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(1000)]
    api, _, _ = client(fake)
    original = fake.list_hostnames
    fake.list_hostnames = lambda query: original({**query, "page": "1"})  # a server that ignores `page`
    fake.claimed_total_pages = 7
    assert len(api.custom_hostnames(ZONE_ID)) == 1000
    assert fake.count("/custom_hostnames$") == 2


def test_a_list_answer_without_result_or_result_info_is_an_empty_listing(fake):
    fake.hostnames = [custom_hostname("mail.mkdev.me")]
    fake.omit_result = fake.omit_result_info = True
    api, _, _ = client(fake)
    assert api.custom_hostnames(ZONE_ID) == []
    assert fake.count("/custom_hostnames$") == 1


def test_without_result_info_a_full_page_asks_for_the_next(fake):
    fake.hostnames = [custom_hostname(f"h{n:04}.example.com") for n in range(1200)]
    fake.omit_result_info = True
    api, _, _ = client(fake)
    assert len(api.custom_hostnames(ZONE_ID)) == 1200
    assert fake.count("/custom_hostnames$") == 2


def test_an_empty_zone_is_one_request_and_no_hostnames(fake):
    api, _, _ = client(fake)
    assert api.custom_hostnames(ZONE_ID) == []
    assert fake.count() == 1


def test_items_keep_the_api_json_shape(fake):
    fake.hostnames = [custom_hostname("mail.mkdev.me", status="pending", ssl_status="pending_validation",
                                      verification_errors=["custom hostname does not CNAME to this zone."])]
    api, _, _ = client(fake)
    (item,) = api.custom_hostnames(ZONE_ID, hostname="mail.mkdev.me")
    assert item["status"] == "pending" and item["ssl"]["status"] == "pending_validation"
    assert item["ssl"]["settings"]["tls_1_3"] == "on"
    assert item["verification_errors"] == ["custom hostname does not CNAME to this zone."]
    assert item["ownership_verification"]["name"] == "_cf-custom-hostname.mail.mkdev.me"
    assert fake.requests[-1][2]["hostname.exact"] == "mail.mkdev.me"


def test_a_429_is_waited_out_with_retry_after_and_announced(fake):
    fake.hostnames = [custom_hostname("mail.mkdev.me")]
    fake.answer_first("/custom_hostnames$", 429, times=2, retry_after="12")
    api, slept, notices = client(fake)
    assert len(api.custom_hostnames(ZONE_ID)) == 1
    assert slept == [12.0, 12.0]
    assert notices == ["Cloudflare rate limit: waiting 12 s (Retry-After), attempt 2 of 5",
                       "Cloudflare rate limit: waiting 12 s (Retry-After), attempt 3 of 5"]


def test_without_retry_after_it_backs_off_exponentially_and_never_waits_longer_than_the_cap(fake):
    fake.answer_first("/custom_hostnames$", 429, times=3)
    api, slept, notices = client(fake, retry=RetryPolicy(attempts=4, first_backoff=2, max_wait=5))
    api.custom_hostnames(ZONE_ID)
    assert slept == [2, 4, 5]
    assert notices[0] == "Cloudflare rate limit: waiting 2 s (backoff), attempt 2 of 4"


def test_a_persistent_429_ends_with_a_clear_error(fake):
    fake.answer_first("/custom_hostnames$", 429, times=10, retry_after="30")
    api, slept, _ = client(fake)
    with pytest.raises(CloudflareApiError) as caught:
        api.custom_hostnames(ZONE_ID)
    assert str(caught.value).startswith("Cloudflare rate limit: still limited after 5 attempts while listing custom "
                                        "hostnames (waited 120 s in total); the API allows about 1,200 requests")
    assert slept == [30.0] * 4 and fake.count() == 5


def test_server_errors_are_retried_then_reported(fake):
    fake.answer_first("/fallback_origin$", 503, times=1)
    fake.fallback = {"origin": "proxy-fallback.mailito.com", "status": "active", "errors": []}
    api, _, notices = client(fake)
    assert api.fallback_origin(ZONE_ID)["status"] == "active"
    assert notices == ["Cloudflare API answered 503: retrying in 2 s (backoff), attempt 2 of 5"]
    fake.answer_first("/fallback_origin$", 500, times=10)
    with pytest.raises(CloudflareApiError, match=r"Cloudflare API failed while reading the fallback origin: HTTP 500"):
        api.fallback_origin(ZONE_ID)


def test_no_fallback_origin_reads_as_none(fake):
    api, _, _ = client(fake)
    assert api.fallback_origin(ZONE_ID) is None


def test_a_wrong_token_is_refused_with_the_apis_own_error_and_a_hint(fake):
    api, _, _ = client(fake, token="not-the-token")
    with pytest.raises(CloudflareApiError) as caught:
        api.custom_hostnames(ZONE_ID)
    assert str(caught.value) == ("Cloudflare API refused listing custom hostnames: HTTP 403: 9109 Invalid access "
                                 "token (is CLOUDFLARE_API_TOKEN valid and scoped to this zone with Zone · SSL and "
                                 "Certificates?)")


def test_the_token_is_sent_as_bearer_even_when_a_global_key_is_in_the_environment(fake, monkeypatch):
    monkeypatch.setenv("CLOUDFLARE_API_KEY", "global-key")
    monkeypatch.setenv("CLOUDFLARE_EMAIL", "ops@example.com")
    api, _, _ = client(fake)
    assert api.custom_hostnames(ZONE_ID) == []  # the fake refuses anything but the bearer token


def test_the_zone_id_is_looked_up_by_name_once_or_taken_from_the_settings(fake):
    api, _, _ = client(fake)
    assert api.zone_id("mailito.com", None) == ZONE_ID
    assert api.zone_id("mailito.com", "configured-id") == "configured-id"
    assert fake.count("^/zones$") == 1
    with pytest.raises(CloudflareApiError, match="no zone named other.com visible to this token"):
        api.zone_id("other.com", None)


def test_a_missing_token_says_how_to_set_it():
    with pytest.raises(MissingTokenError) as caught:
        CloudflareApi.from_environment({})
    assert str(caught.value).startswith("CLOUDFLARE_API_TOKEN is not set: set CLOUDFLARE_API_TOKEN to an API token")


def test_an_unreachable_api_is_reported_with_its_address():
    api = CloudflareApi.from_environment({"CLOUDFLARE_API_TOKEN": "t", "CLOUDFLARE_BASE_URL": "http://127.0.0.1:9/v4"})
    with pytest.raises(CloudflareApiError, match=r"cannot reach the Cloudflare API at http://127.0.0.1:9/v4/"):
        api.custom_hostnames(ZONE_ID)
