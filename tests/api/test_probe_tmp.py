import pytest
pytestmark = pytest.mark.django_db

def test_probe1(user_client, user):
    r = user_client.put("/api/v1/profiles/profile/alice", "full_name=Pat+Q&years_of_experience=3&salary_range_min=100&programming_languages=Python&programming_languages=Go", content_type="application/x-www-form-urlencoded")
    print(r.status_code, r.content[:600])
    r = user_client.put("/api/v1/profiles/profile/alice", "full_name=Pat+Q", content_type="multipart/form-data; boundary=x")
    print(r.status_code, r.content[:600])
