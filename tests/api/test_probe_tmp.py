import pytest
from rest_framework.authtoken.models import Token
pytestmark = pytest.mark.django_db

def test_probe(client, user):
    t = Token.objects.create(user=user)
    r = client.get("/api/v1/products/?brand=&category=&page=0&page_size=0", HTTP_AUTHORIZATION=f"Token {t.key}")
    print(r.status_code, r.content[:300])
    r = client.generic("TRACE", "/api/v1/me", HTTP_AUTHORIZATION=f"Token {t.key}")
    print(r.status_code, r.content[:300])
