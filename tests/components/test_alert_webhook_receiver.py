"""The alert webhook's receiver as the README describes it, against Cloudflare's test of a destination.

Cloudflare sends a fixed test message when a webhook destination is created or changed and refuses
the destination unless the receiver answers 2xx (its configure-webhooks page; the emulator does the
same, with the cf-webhook-auth header). A receiver that rejects every request without the secret it
knows fails the first `pulumi up` (the stack's secret is new) and a rotation; one that follows the
README (the exact test message always gets 2xx, everything else needs one of the accepted secrets)
passes both, and still rejects an alert with a secret it does not accept.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import contextmanager

import cloudflare
import pytest

from tests.emulator.cloudflare import ACCOUNT_ID, WEBHOOK_TEST_TEXT
from tests.fakes.loopback import json_handler, loopback_server

pytest_plugins = ["tests.emulator.fixtures"]

OLD, NEW = "0123456789abcdef" * 4, "fedcba9876543210" * 4


@contextmanager
def receiver(accepted: set[str], *, answers_the_test_message: bool):
    """A webhook receiver; `received` lists what it took (not the test message)."""
    received: list[dict] = []

    def respond(method, path, headers, body):
        message = json.loads(body or b"{}")
        if answers_the_test_message and message.get("text") == WEBHOOK_TEST_TEXT:
            return 200, {}, {"ok": "test message"}  # carries nothing: accepting it grants nothing
        if headers.get("cf-webhook-auth") not in accepted:
            return 401, {}, {"error": "cf-webhook-auth"}
        received.append(message)
        return 200, {}, {"ok": True}

    with loopback_server(json_handler(respond)) as url:
        yield f"{url}/hooks/cloudflare", received


def create_webhook(client, url, secret):
    return client.alerting.destinations.webhooks.create(account_id=ACCOUNT_ID, name="saas-domains alerts",
                                                         url=url, secret=secret)


def post_alert(url, secret) -> int:
    request = urllib.request.Request(url, data=json.dumps({"text": "validation.failed"}).encode(), method="POST",
                                     headers={"Content-Type": "application/json", "cf-webhook-auth": secret})
    try:
        with urllib.request.urlopen(request, timeout=5) as answer:
            return answer.status
    except urllib.error.HTTPError as err:
        return err.code


def test_a_receiver_that_knows_no_secret_yet_fails_cloudflares_test_unless_it_answers_the_test_message(
        cloudflare_emulator, cloudflare_client):
    with receiver(set(), answers_the_test_message=False) as (url, _):
        with pytest.raises(cloudflare.APIStatusError):
            create_webhook(cloudflare_client, url, OLD)  # the first `up` with a secret the receiver cannot know
    assert cloudflare_emulator.state()["webhooks"][ACCOUNT_ID] == {}
    with receiver(set(), answers_the_test_message=True) as (url, received):
        created = create_webhook(cloudflare_client, url, OLD)
        assert created.id in cloudflare_emulator.state()["webhooks"][ACCOUNT_ID]
        assert received == []  # the test message did nothing
        assert post_alert(url, OLD) == 401  # a real alert still needs an accepted secret


def test_a_secret_set_before_the_first_up_and_a_rotation_deliver_every_alert(cloudflare_emulator, cloudflare_client):
    accepted = {OLD}
    with receiver(accepted, answers_the_test_message=True) as (url, received):
        webhook = create_webhook(cloudflare_client, url, OLD)  # alertWebhookSecret known to the receiver first
        assert post_alert(url, OLD) == 200
        accepted.add(NEW)  # 1. the receiver accepts the new secret too
        cloudflare_client.alerting.destinations.webhooks.update(  # 2. `pulumi up` with the new alertWebhookSecret
            webhook.id, account_id=ACCOUNT_ID, name="saas-domains alerts", url=url, secret=NEW)
        tests = [d for d in cloudflare_emulator.deliveries() if d["webhook_id"] == webhook.id]
        assert [d["headers"].get("cf-webhook-auth") for d in tests] == [OLD, NEW]
        assert all(d["status"] == 200 for d in tests)
        accepted.discard(OLD)  # 3. then the old one goes
        assert post_alert(url, NEW) == 200 and post_alert(url, OLD) == 401
        assert len(received) == 2
