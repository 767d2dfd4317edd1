"""HTTPS deliveries connect to the address that was checked, and still verify the
certificate against the URL's name (TLS SNI and Host header), with no DNS in between."""

import datetime as dt
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from events import http, services
from events.models import Delivery
from tests import factories
from tests.events.conftest import add_endpoint
from tests.events.receiver import Receiver


def self_signed(tmp_path, name: str):
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = tmp_path / f"{name}.pem", tmp_path / f"{name}.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_file, key_file


@pytest.fixture
def tls_receiver(tmp_path, settings, monkeypatch, request):
    """An HTTPS receiver on loopback whose certificate names `request.param`, trusted by
    the delivery code in place of the system's trust store."""
    settings.WEBHOOKS_REQUIRE_HTTPS = True
    settings.WEBHOOKS_ALLOW_PRIVATE_TARGETS = True
    cert_file, key_file = self_signed(tmp_path, request.param)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_file, key_file)
    monkeypatch.setattr(http, "tls_context", lambda: ssl.create_default_context(cafile=cert_file))
    server = Receiver(tls=server_context).start()
    yield server
    server.stop()


def _deliver_test_event(receiver, django_capture_on_commit_callbacks):
    organization = factories.make_org("acme", owner="owner@acme.test")
    endpoint, _ = add_endpoint(organization, f"https://localhost:{receiver.port}/hook")
    with django_capture_on_commit_callbacks(execute=True):
        services.send_test_event(endpoint=endpoint)
    return Delivery.objects.get(endpoint=endpoint)


@pytest.mark.parametrize("tls_receiver", ["localhost"], indirect=True)
def test_the_certificate_is_checked_against_the_urls_name(
    db, tls_receiver, django_capture_on_commit_callbacks
):
    delivery = _deliver_test_event(tls_receiver, django_capture_on_commit_callbacks)
    assert (delivery.status, delivery.response_code) == ("delivered", 200)
    [hit] = tls_receiver.received
    assert hit.headers["Host"] == f"localhost:{tls_receiver.port}"


@pytest.mark.parametrize("tls_receiver", ["elsewhere.test"], indirect=True)
def test_a_certificate_for_another_name_fails(db, tls_receiver, django_capture_on_commit_callbacks):
    delivery = _deliver_test_event(tls_receiver, django_capture_on_commit_callbacks)
    assert delivery.status == "failed"  # a test event is not retried
    assert delivery.response_code is None
    assert "CERTIFICATE_VERIFY_FAILED" in delivery.error or "certificate" in delivery.error
    assert tls_receiver.received == []
