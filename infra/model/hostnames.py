"""Hostnames as the customers file, the importer and support see them: pure, no Pulumi, no network."""

from __future__ import annotations

# Public suffixes with two labels that people register under; without the full Public Suffix List
# (not a dependency here) this covers the common cases and errs towards "not an apex".
_TWO_LABEL_SUFFIXES = frozenset("""
co.uk org.uk me.uk ltd.uk plc.uk net.uk ac.uk gov.uk sch.uk nhs.uk
com.au net.au org.au edu.au gov.au id.au co.nz net.nz org.nz ac.nz govt.nz
co.jp ne.jp or.jp ac.jp go.jp co.kr or.kr ne.kr com.cn net.cn org.cn gov.cn com.hk com.tw com.sg edu.sg
co.in net.in org.in firm.in gen.in com.br net.br org.br com.ar com.mx org.mx com.co com.pe com.uy com.ve
co.za org.za com.tr net.tr org.tr co.il org.il com.my co.id co.th in.th com.ph com.vn com.pk com.bd
com.ua com.pl net.pl org.pl com.es com.pt com.gr com.ro co.at or.at com.eg com.sa com.ng co.ke
""".split())


def registrable_domain(hostname: str) -> str:
    """The domain a customer registered: mail.mkdev.me -> mkdev.me, a.b.example.co.uk -> example.co.uk."""
    labels = hostname.lstrip("*.").split(".")
    keep = 3 if len(labels) >= 3 and ".".join(labels[-2:]) in _TWO_LABEL_SUFFIXES else 2
    return ".".join(labels[-keep:])


def is_apex(hostname: str) -> bool:
    """An apex (registrable domain itself) cannot hold a CNAME at most DNS providers."""
    return hostname == registrable_domain(hostname)
