"""API routes for profiles, resumes, matches and digests (seed 004)."""

from django.urls import path

from profiles import apis, match_apis

urlpatterns = [
    path("profiles/upload-resume/<str:user_id>", apis.ResumeUploadApi.as_view(), name="profiles-upload-resume"),
    path("profiles/parse-text/<str:user_id>", apis.ResumeParseTextApi.as_view(), name="profiles-parse-text"),
    path("profiles/profile/<str:user_id>", apis.ProfileDetailApi.as_view(), name="profiles-profile"),
    path("profiles/users", apis.ProfileListApi.as_view(), name="profiles-users"),
    path("profiles/matches/<str:user_id>", match_apis.MatchListApi.as_view(), name="profiles-matches"),
    path("profiles/score-jobs/<str:user_id>", match_apis.ScoreJobsApi.as_view(), name="profiles-score-jobs"),
    path("digests/", match_apis.DigestListApi.as_view(), name="digests-list"),
    path("digests/<int:digest_id>", match_apis.DigestDetailApi.as_view(), name="digests-detail"),
]
