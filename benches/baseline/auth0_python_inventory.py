#!/usr/bin/env python3
"""Baseline for benches/poll.rs: the certificate inventory certwatch takes (docs/inventory.md), written the
way a Python developer would with the official SDK, auth0-python 6.8.0 (PyPI, Fern-generated
Management client) and `cryptography`.

Same requests as certwatch where the SDK allows it: the certificate fields only
(`fields=...&include_fields=true`), the largest pages (100), `is_global=false`, the strategies
that can carry certificates, and a credentials call only for clients that reference one. The
SDK's own pagination and retry policy are used unchanged (its offset pager stops on an empty
page; it retries 429s twice, sleeping until `x-ratelimit-reset` + 0-20 % jitter).

Usage: auth0_python_inventory.py --base-url http://127.0.0.1:PORT/ --client-id ID
       --client-secret SECRET --audience AUD [--max-retries N]
Prints one JSON line: {"peak_rss_kib", "poll_secs", "records", "errors", "first_error", "failed"}.
"""

import argparse
import base64
import binascii
import json
import sys
import time
from urllib.parse import urlparse

from auth0.authentication import GetToken
from auth0.management import Auth0
from cryptography import x509
from cryptography.hazmat.primitives import hashes

CLIENT_FIELDS = (
    "client_id,name,global,client_authentication_methods,"
    "signed_request_object,encryption_key,signing_keys"
)
CONNECTION_FIELDS = "id,name,strategy,options"
CERT_STRATEGIES = ["samlp", "pingfederate", "adfs", "waad", "ad", "oidc", "okta"]


def decode_cert(value):
    """PEM, base64 of PEM or base64 DER (as Auth0 stores them) -> dict, or raises ValueError."""
    text = value.strip()
    if "-----BEGIN" in text:
        cert = x509.load_pem_x509_certificate(text.encode())
    else:
        try:
            raw = base64.b64decode("".join(text.split()), validate=True)
        except binascii.Error as e:
            raise ValueError(f"not base64: {e}") from e
        if raw.lstrip().startswith(b"-----BEGIN"):
            cert = x509.load_pem_x509_certificate(raw)
        else:
            cert = x509.load_der_x509_certificate(raw)
    return {
        "subject": cert.subject.rfc4514_string(),
        "issuer": cert.issuer.rfc4514_string(),
        "serial": format(cert.serial_number, "x"),
        "sha1": cert.fingerprint(hashes.SHA1()).hex(),
        "sha256": cert.fingerprint(hashes.SHA256()).hex(),
        "not_before": cert.not_valid_before_utc.isoformat(),
        "not_after": cert.not_valid_after_utc.isoformat(),
    }


def cert_record(kind, role, object_id, object_name, value, cert_id=None):
    rec = {"kind": kind, "role": role, "object_id": object_id, "object_name": object_name}
    try:
        info = decode_cert(value or "")
        rec.update(info)
        rec["cert_id"] = cert_id or info["sha1"]
    except (ValueError, TypeError) as e:
        rec["error"] = str(e)
        rec["cert_id"] = cert_id or "unparseable"
    return rec


def credential_refs(client):
    refs = set()
    methods = client.get("client_authentication_methods") or {}
    for method in methods.values():
        for c in (method or {}).get("credentials") or []:
            if c.get("id"):
                refs.add(c["id"])
    for c in (client.get("signed_request_object") or {}).get("credentials") or []:
        if c.get("id"):
            refs.add(c["id"])
    return refs


class Inventory:
    def __init__(self, mgmt, domain):
        self.mgmt = mgmt
        self.domain = domain
        self.records = []
        self.errors = []

    def fail(self, source, err):
        self.errors.append(f"{source}: {type(err).__name__}: {err}")

    def signing_keys(self):
        thumbs = set()
        try:
            keys = self.mgmt.keys.signing.list()
        except Exception as e:  # noqa: BLE001 - a failing source is recorded, the poll goes on
            self.fail("signing_keys", e)
            return thumbs
        for k in keys:
            role = (
                "revoked" if k.revoked else "current" if k.current
                else "next" if k.next else "previous"
            )
            rec = cert_record("tenant_signing_key", role, k.kid, self.domain, k.cert, k.kid)
            if rec.get("sha1"):
                thumbs.add(rec["sha1"])
            if k.thumbprint:
                thumbs.add(k.thumbprint.replace(":", "").lower())
            self.records.append(rec)
        return thumbs

    def clients(self, tenant_thumbs):
        with_refs = []
        try:
            pager = self.mgmt.clients.list(
                fields=CLIENT_FIELDS, include_fields=True, per_page=100, is_global=False
            )
            for model in pager:
                c = model.dict()
                if c.get("global"):
                    continue
                cid, name = c["client_id"], c.get("name") or c["client_id"]
                seen = set()
                enc = (c.get("encryption_key") or {}).get("cert")
                if enc:
                    rec = cert_record("client_encryption_key", "active", cid, name, enc)
                    seen.add(rec["cert_id"])
                    self.records.append(rec)
                for key in c.get("signing_keys") or []:
                    if not key.get("cert"):
                        continue
                    rec = cert_record("client_signing_key", "active", cid, name, key["cert"])
                    if rec.get("sha1") in tenant_thumbs or rec["cert_id"] in seen:
                        continue
                    seen.add(rec["cert_id"])
                    self.records.append(rec)
                refs = credential_refs(c)
                if refs:
                    with_refs.append((cid, name, refs))
        except Exception as e:  # noqa: BLE001
            self.fail("clients", e)
            return
        for cid, name, refs in with_refs:
            try:
                creds = self.mgmt.clients.credentials.list(cid)
            except Exception as e:  # noqa: BLE001
                self.fail("client_credentials", e)
                continue
            for cred in creds:
                self.records.append({
                    "kind": "client_credential",
                    "role": "in_use" if cred.id in refs else "unused",
                    "object_id": cid, "object_name": name, "cert_id": cred.id,
                    "subject": getattr(cred, "subject_dn", None),
                    "not_after": cred.expires_at.isoformat() if cred.expires_at else None,
                })

    def connections(self):
        with_keys = []
        try:
            pager = self.mgmt.connections.list(
                strategy=CERT_STRATEGIES, fields=CONNECTION_FIELDS, include_fields=True, take=100
            )
            for conn in pager:
                opts = conn.options
                if opts is None:
                    self.fail("connections", ValueError("options missing: read:connections_options"))
                    continue
                self.connection(conn, opts)
                if conn.strategy in ("oidc", "okta") and opts.get(
                    "token_endpoint_auth_method"
                ) == "private_key_jwt":
                    with_keys.append(conn)
        except Exception as e:  # noqa: BLE001
            self.fail("connections", e)
            return
        for conn in with_keys:
            try:
                keys = self.mgmt.connections.keys.get(conn.id)
            except Exception as e:  # noqa: BLE001
                self.fail("connection_keys", e)
                continue
            for k in keys:
                role = "current" if k.current else "next" if k.next else "previous"
                self.records.append(
                    cert_record("connection_key", role, conn.id, conn.name, k.cert, k.kid)
                )

    def connection(self, conn, opts):
        out = {}

        def push(rec):
            out.setdefault(rec["cert_id"], rec)

        def text(key):
            v = opts.get(key)
            return v if isinstance(v, str) and v.strip() else None

        idp = []
        if conn.strategy in ("samlp", "pingfederate"):
            idp = [v for v in (text("cert"), text("signingCert")) if v]
        elif conn.strategy == "ad":
            idp = [v for v in opts.get("certs") or [] if isinstance(v, str)]
        decoded = [
            cert_record("connection_signing_cert", "active", conn.id, conn.name, v) for v in idp
        ]
        any_ok = any("error" not in r for r in decoded)
        for r in decoded:
            if "error" not in r or not any_ok:
                push(r)
        if not out and conn.strategy in ("samlp", "adfs", "waad", "ad", "pingfederate"):
            for t in opts.get("thumbprints") or []:
                t = t.replace(":", "").lower()
                if t:
                    push({"kind": "connection_thumbprint", "role": "active", "object_id": conn.id,
                          "object_name": conn.name, "cert_id": t})
        sk = (opts.get("signing_key") or {}).get("cert")
        if sk:
            push(cert_record("connection_sp_signing_key", "active", conn.id, conn.name, sk))
        dk = opts.get("decryptionKey")
        dk = dk if isinstance(dk, str) else (dk or {}).get("cert")
        if dk:
            push(cert_record("connection_decryption_key", "active", conn.id, conn.name, dk))
        self.records.extend(out.values())


def peak_rss_kib():
    """VmHWM of this process (what benches/poll.rs reports as peak RSS for both sides)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base-url", required=True)
    ap.add_argument("--client-id", required=True)
    ap.add_argument("--client-secret", required=True)
    ap.add_argument("--audience", required=True)
    ap.add_argument("--domain", default="demo.certwatch.local")
    ap.add_argument("--max-retries", type=int, default=None, help="SDK default (2) when absent")
    args = ap.parse_args()

    url = urlparse(args.base_url)
    started = time.monotonic()
    failed = False
    inv = None
    try:
        token = GetToken(
            url.netloc, args.client_id, client_secret=args.client_secret, protocol=url.scheme
        ).client_credentials(args.audience)["access_token"]
        mgmt = Auth0(
            base_url=f"{url.scheme}://{url.netloc}/api/v2",
            token=token,
            max_retries=args.max_retries,
        )
        inv = Inventory(mgmt, args.domain)
        thumbs = inv.signing_keys()
        inv.clients(thumbs)
        inv.connections()
    except Exception as e:  # noqa: BLE001
        failed = True
        print(f"baseline failed: {e}", file=sys.stderr)
    poll_secs = time.monotonic() - started
    errors = inv.errors if inv else ["token"]
    print(json.dumps({
        "peak_rss_kib": peak_rss_kib(),
        "poll_secs": poll_secs,
        "records": len(inv.records) if inv else 0,
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "failed": failed or bool(errors),
    }))


if __name__ == "__main__":
    main()
