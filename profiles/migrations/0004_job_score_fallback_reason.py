from django.db import migrations, models

# The reasons stored scores gave in their text before the reason had a field of its own
# (profiles/matching/store.py FALLBACK_REASONS at the time), so the rules' own scores are not re-sent.
LEGACY_LABELS = {
    "offline": ["no AI provider is configured", "AIプロバイダー未設定"],
    "circuit_open": ["the AI provider is failing right now", "AIプロバイダーが一時的に利用できません"],
    "daily_budget": ["today's AI budget for you is used up", "本日のAI評価の上限に達しました"],
    "prefilter_confident": [
        "a clear match by the rules, so no AI review was needed",
        "ルールで明らかに合う求人のためAI評価は省略しました",
    ],
    "prefilter_weak": [
        "a weak match by the rules, so no AI review was needed",
        "ルールで合う度合いが低い求人のためAI評価は省略しました",
    ],
}


def backfill_reasons(apps, schema_editor):
    JobScore = apps.get_model("profiles", "JobScore")
    for reason, labels in LEGACY_LABELS.items():
        for label in labels:
            JobScore.objects.filter(is_fallback=True, fallback_reason="", ai_reasoning__endswith=f"({label})").update(
                fallback_reason=reason
            )


class Migration(migrations.Migration):
    dependencies = [
        ("profiles", "0003_matching_feedback_manual_edits"),
    ]

    operations = [
        migrations.AddField(
            model_name="jobscore",
            name="fallback_reason",
            field=models.CharField(blank=True, max_length=40),
        ),
        migrations.AddConstraint(
            model_name="jobscore",
            constraint=models.CheckConstraint(
                condition=models.Q(("is_fallback", True), ("fallback_reason", ""), _connector="OR"),
                name="job_score_model_has_no_fallback_reason",
            ),
        ),
        migrations.RunPython(backfill_reasons, migrations.RunPython.noop),
    ]
