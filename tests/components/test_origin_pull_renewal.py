"""`originAuth: mtls` on the ALB: a renewed CA reaches the trust store.

terraform-provider-aws (internal/service/elbv2/trust_store.go) calls ModifyTrustStore only when the
bundle's bucket, key or object version change, so the CA bundle's key is named by its digest: rendered
before and after a renewal (the tls provider hands the program a new CA certificate), the trust store's
key changes and the bucket object is a new one, which is what makes the provider update the store.
"""

from __future__ import annotations

import pulumi

from infra.components.origin_auth import trust_store_key
from tests.conftest import EXAMPLE_CUSTOMERS, run_program
from tests.fakes.cloud import FakeCloud

TRUST_STORE = "aws:lb/trustStore:TrustStore"
BUNDLE = "aws:s3/bucketObjectv2:BucketObjectv2"
CA = "tls:index/selfSignedCert:SelfSignedCert"


class RenewedCa(FakeCloud):
    """The cloud after the CA's early renewal: the same resources, a new CA certificate."""

    def new_resource(self, args: pulumi.runtime.MockResourceArgs):
        rid, state = super().new_resource(args)
        if args.typ == CA:
            state["certPem"] = "-----BEGIN CERTIFICATE-----\nrenewed CA\n-----END CERTIFICATE-----\n"
        return rid, state


def trust_store_inputs(cloud=None):
    rendering = run_program(EXAMPLE_CUSTOMERS, cloud=cloud, originAuth="mtls")
    [store] = rendering.of_type(TRUST_STORE)
    [bundle] = rendering.of_type(BUNDLE)
    [ca] = rendering.of_type(CA)
    return store.inputs, bundle.inputs, ca.state["certPem"]


def test_a_renewed_ca_changes_the_trust_stores_key_so_the_alb_trusts_it():
    store_before, bundle_before, ca_before = trust_store_inputs()
    store_after, bundle_after, ca_after = trust_store_inputs(RenewedCa())
    assert ca_before != ca_after
    assert bundle_before["content"] == ca_before and bundle_after["content"] == ca_after
    assert store_before["caCertificatesBundleS3Key"] == bundle_before["key"] == trust_store_key(ca_before)
    assert store_after["caCertificatesBundleS3Key"] == bundle_after["key"] == trust_store_key(ca_after)
    assert store_before["caCertificatesBundleS3Key"] != store_after["caCertificatesBundleS3Key"]
    assert store_before["caCertificatesBundleS3Bucket"] == store_after["caCertificatesBundleS3Bucket"]


def test_the_key_is_stable_for_the_same_ca():
    assert trust_store_inputs()[0] == trust_store_inputs()[0]
    assert trust_store_key("x").startswith("origin-pull-ca-") and trust_store_key("x").endswith(".pem")
