"""The bare baseline: N Cloudflare custom hostnames and their per-hostname outputs, nothing else.

No project code (no `infra` import, no YAML, no validation, no component): it reads a plain text
file of `<hostname> <customer id>` lines named by the `hostnamesFile` config key and declares, for
each line, the same `cloudflare.CustomHostname` inputs the project declares and the same
per-hostname export shape (`customerHostnames`). `benchmarks/run.py` runs it under the same mock
engine as the project (`infra.offline.render`), so the ratio project / bare is the cost of the
project's own code.
"""

import pulumi
import pulumi_cloudflare as cloudflare

config = pulumi.Config()
zone_id = config.require("zoneId")
cname_domain = config.require("cnameDomain")

ssl = cloudflare.CustomHostnameSslArgs(
    type="dv", method="http", wildcard=False, bundle_method="ubiquitous", certificate_authority=None,
    settings=cloudflare.CustomHostnameSslSettingsArgs(
        min_tls_version="1.2", http2="on", tls13="on", early_hints="off", ciphers=None),
)

outputs = {}
with open(config.require("hostnamesFile"), encoding="utf-8") as lines:
    for line in lines:
        hostname, customer = line.split()
        resource = cloudflare.CustomHostname(hostname, zone_id=zone_id, hostname=hostname, ssl=ssl)
        target = f"{customer}.{cname_domain}"
        outputs[hostname] = pulumi.Output.all(resource.ownership_verification, resource.status).apply(
            lambda values, hostname=hostname, customer=customer, target=target: {
                "customer": customer,
                "cname": {"name": hostname, "target": target},
                "ownershipTxt": {
                    "name": values[0].get("name") if values[0] else None,
                    "value": values[0].get("value") if values[0] else None,
                },
                "status": values[1],
            })

pulumi.export("customerHostnames", outputs)
