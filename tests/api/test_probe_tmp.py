import pytest
pytestmark = pytest.mark.django_db

def test_probe1(staff_client, settings):
    settings.LLM_PROVIDER = "offline"
    r = staff_client.post("/api/v1/batch/create?category_limit=3&include_completed=true&locales=0&task_type=analyze", {"task_type": "qualify", "job_ids": {}, "stage": "new", "verdict": "qualified", "source": "feed", "min_score": 0, "max_score": 0, "limit": 1}, format="json")
    print(r.status_code, r.content[:300])

def test_probe2(staff_client, settings):
    settings.LLM_PROVIDER = "offline"
    r = staff_client.post("/api/v1/data-dictionaries/describe-field?fallback=false", {"": [], "field_path": "b\U00026443\u00f07", "data_type": "uploaded_at"}, format="json")
    print(r.status_code, r.content[:300])
