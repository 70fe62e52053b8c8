import pytest
from emails.jobmail.services import email_generate
from tests.factories import JobFactory, JobScoreFactory, ProfileFactory

pytestmark = pytest.mark.django_db


def test_smoke(settings):
    settings.EMAIL_GENERATION_RATE_LIMIT = 0
    profile = ProfileFactory(language="ja")
    jobs = [JobFactory(is_editorial_pick=i < 3) for i in range(30)]
    for job in jobs[:8]:
        JobScoreFactory(profile=profile, job=job, compatibility_score=70 + jobs.index(job))
    email = email_generate(profile=profile)
    print(email.subject, email.status, [ (s["key"], len(s["jobs"]), s["note"]) for s in email.sections])
    print(email.generation)
    open("/tmp/jscratch/email.html", "w").write(email.html)
    open("/tmp/jscratch/email.txt", "w").write(email.text)
