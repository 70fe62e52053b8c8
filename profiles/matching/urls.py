"""API routes for matches, on-demand scoring and digests (seed 004)."""

from django.urls import path

from profiles.matching import apis

urlpatterns = [
    path("profiles/matches/<str:user_id>", apis.MatchListApi.as_view(), name="profiles-matches"),
    path(
        "profiles/matches/<str:user_id>/<int:job_id>/feedback",
        apis.MatchFeedbackApi.as_view(),
        name="profiles-match-feedback",
    ),
    path("profiles/score-jobs/<str:user_id>", apis.ScoreJobsApi.as_view(), name="profiles-score-jobs"),
    path("digests/", apis.DigestListApi.as_view(), name="digests-list"),
    path("digests/<int:digest_id>", apis.DigestDetailApi.as_view(), name="digests-detail"),
]
