"""API routes for profiles and resumes; matching's own routes (matches, digests) are included."""

from django.urls import path

from profiles import apis
from profiles.matching.urls import urlpatterns as matching_urlpatterns

urlpatterns = [
    path("profiles/upload-resume/<str:user_id>", apis.ResumeUploadApi.as_view(), name="profiles-upload-resume"),
    path("profiles/parse-text/<str:user_id>", apis.ResumeParseTextApi.as_view(), name="profiles-parse-text"),
    path("profiles/profile/<str:user_id>", apis.ProfileDetailApi.as_view(), name="profiles-profile"),
    path("profiles/users", apis.ProfileListApi.as_view(), name="profiles-users"),
    *matching_urlpatterns,
]
