"""The customers file: its model (`model.py`), its SSL-field table (`ssl_fields.py`), its YAML tree
(`yaml_tree.py`) and its validation (`validate.py`)."""

from infra.model.customers.model import (
    ALLOWED_BUNDLE_METHODS,
    ALLOWED_CERTIFICATE_AUTHORITIES,
    ALLOWED_MIN_TLS_VERSIONS,
    ALLOWED_SSL_METHODS,
    ALLOWED_SSL_TYPES,
    CUSTOMER_KEYS,
    DEFAULT_MAX_HOSTNAMES,
    DEFAULTS_KEYS,
    Customer,
    CustomerHostname,
    CustomersFile,
    CustomersFileError,
    EntryOverrides,
    HostnameSsl,
    Problem,
    ValidationRules,
)
from infra.model.customers.ssl_fields import SSL_FIELD, SSL_FIELDS, SSL_KEYS, SslField
from infra.model.customers.validate import load_customers, parse_customers

__all__ = [
    "ALLOWED_BUNDLE_METHODS",
    "ALLOWED_CERTIFICATE_AUTHORITIES",
    "ALLOWED_MIN_TLS_VERSIONS",
    "ALLOWED_SSL_METHODS",
    "ALLOWED_SSL_TYPES",
    "CUSTOMER_KEYS",
    "DEFAULTS_KEYS",
    "DEFAULT_MAX_HOSTNAMES",
    "SSL_FIELD",
    "SSL_FIELDS",
    "SSL_KEYS",
    "Customer",
    "CustomerHostname",
    "CustomersFile",
    "CustomersFileError",
    "EntryOverrides",
    "HostnameSsl",
    "Problem",
    "SslField",
    "ValidationRules",
    "load_customers",
    "parse_customers",
]
