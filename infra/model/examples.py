"""The example customers the repository ships, and the rule that keeps them out of a real stack.

`examples/customers.yaml` holds them for the example stacks (Pulumi.dev.yaml and the other
`*-example*` files), which the README's offline commands render; the project's own `customers.yaml`
starts empty. A stack of another name whose customers file holds one of them would create custom
hostnames for domains nobody here owns: the program (so `plan`, `preview` and `up`) and `validate`
refuse it, naming the file and line. tests/model/test_examples.py keeps these sets equal to the files.
"""

from __future__ import annotations

from infra.model.customers import CustomersFile, CustomersFileError, Problem

EXAMPLES_FILE = "examples/customers.yaml"
EXAMPLE_STACKS = frozenset({"dev", "gcp-example", "external-example", "shard-example-core", "shard-example-0",
                            "shard-example-1", "shard-example-2"})
EXAMPLE_HOSTNAMES = frozenset({"mail.mkdev.me", "mail.acme-corp.com", "newsletter.acme-corp.com", "post.globex.io"})


def refuse_examples(customers: CustomersFile, stack: str) -> None:
    """CustomersFileError when a stack that is not an example declares an example hostname."""
    if stack.rsplit("/", 1)[-1] in EXAMPLE_STACKS:
        return
    problems = [Problem(customers.path, hostname.line, f"customer {hostname.customer_id!r}",
                        f"{hostname.hostname} is one of the examples this repository ships ({EXAMPLES_FILE}), not "
                        f"a customer of yours: remove it (stack {stack} would create a custom hostname for it)")
                for hostname in customers.hostnames if hostname.hostname in EXAMPLE_HOSTNAMES]
    if problems:
        raise CustomersFileError(customers.path, problems)
