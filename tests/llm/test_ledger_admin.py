"""Admin for the usage ledger (read-only, with totals) and conversations (output escaped)."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from llm.models import Conversation, ConversationTurn, LLMCall
from tests.factories import make_call

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:llm_llmcall_changelist"


@pytest.fixture
def admin_client(client):
    superuser = get_user_model().objects.create_superuser("root", "root@example.com", "pw-root-123")
    client.force_login(superuser)
    return client


def test_changelist_totals_follow_the_current_filter(admin_client):
    make_call(tokens_in=100, tokens_out=40, cost_usd=Decimal("0.001000"))
    make_call(tokens_in=300, tokens_out=60, cost_usd=Decimal("0.002500"), status=LLMCall.Status.FAILED)
    make_call(task="resume_match", tokens_in=5000, tokens_out=900, cost_usd=Decimal("0.500000"))

    response = admin_client.get(reverse(CHANGELIST), {"task": "product_copy"})

    assert response.status_code == 200
    totals = response.context["ledger_totals"]
    assert (totals.calls, totals.tokens_in, totals.tokens_out) == (2, 400, 100)
    assert totals.cost_usd == Decimal("0.003500")
    html = response.content.decode()
    assert 'id="ledger-totals"' in html
    assert '<td class="ledger-cost">0.003500</td>' in html
    assert '<td class="ledger-tokens-in">400</td>' in html


def test_changelist_totals_follow_search_and_cover_every_page(admin_client):
    for i in range(105):  # more than one page (list_per_page = 100)
        make_call(request_id=f"req_{i}", tokens_in=1, tokens_out=1, cost_usd=Decimal("0.000001"))
    make_call(task="other", request_id="zzz", tokens_in=7, tokens_out=7)

    everything = admin_client.get(reverse(CHANGELIST)).context["ledger_totals"]
    searched = admin_client.get(reverse(CHANGELIST), {"q": "req_"}).context["ledger_totals"]

    assert everything.calls == 106
    assert (searched.calls, searched.tokens_in, searched.cost_usd) == (105, 105, Decimal("0.000105"))


def test_changelist_with_no_rows_totals_zero(admin_client):
    totals = admin_client.get(reverse(CHANGELIST)).context["ledger_totals"]

    assert (totals.calls, totals.tokens_in, totals.tokens_out, totals.cost_usd) == (0, 0, 0, Decimal(0))


def changelist_queries(client, **params) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(reverse(CHANGELIST), params)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _make_rows(count: int, subject_user) -> None:
    subject_type = ContentType.objects.get_for_model(subject_user)
    statuses = list(LLMCall.Status)
    for i in range(count):
        make_call(
            task=f"task_{i % 3}",
            model=f"model_{i % 2}",
            status=statuses[i % len(statuses)],
            subject_type=subject_type,
            subject_id=str(subject_user.pk),
            user=subject_user,
            days_ago=i % 5,
        )


@pytest.mark.parametrize("params", [{}, {"status__exact": "failed"}, {"q": "task"}])
def test_changelist_query_count_does_not_grow_with_rows(admin_client, user, params):
    _make_rows(3, user)
    admin_client.get(reverse(CHANGELIST))  # warm caches (content types, session)
    few = changelist_queries(admin_client, **params)

    _make_rows(27, user)
    many = changelist_queries(admin_client, **params)

    assert few == many


def test_changelist_shows_subject_without_resolving_it(admin_client, user):
    make_call(subject_type=ContentType.objects.get_for_model(user), subject_id=str(user.pk))

    html = admin_client.get(reverse(CHANGELIST)).content.decode()

    assert f"auth.user #{user.pk}" in html
    assert reverse("admin:auth_user_change", args=[user.pk]) in html


def test_ledger_rows_cannot_be_added_changed_or_deleted(admin_client):
    call = make_call(status=LLMCall.Status.FAILED, error_message="<b>provider said no</b>")

    assert admin_client.get(reverse("admin:llm_llmcall_add")).status_code == 403
    assert admin_client.post(reverse("admin:llm_llmcall_delete", args=[call.pk]), {"post": "yes"}).status_code == 403
    change_url = reverse("admin:llm_llmcall_change", args=[call.pk])
    assert admin_client.post(change_url, {"task": "edited", "task_version": 9}).status_code == 403
    bulk = admin_client.post(reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [call.pk]})
    assert bulk.status_code in (200, 302)

    call.refresh_from_db()
    assert call.task == "product_copy"
    assert LLMCall.objects.count() == 1
    # The detail page is view-only and escapes provider error text.
    detail = admin_client.get(change_url)
    assert detail.status_code == 200
    assert "&lt;b&gt;provider said no&lt;/b&gt;" in detail.content.decode()
    assert 'name="_save"' not in detail.content.decode()


def test_conversation_admin_escapes_model_output(admin_client, user):
    conversation = Conversation.objects.create(title="Lead chat", provider="openai", model="gpt-4o-mini", user=user)
    ConversationTurn.objects.create(
        conversation=conversation,
        index=0,
        user_input="<img src=x onerror=alert(2)>",
        output_text="<script>alert(1)</script> hello",
        response_id="resp_1",
        tokens_in=12,
        tokens_out=34,
    )
    ConversationTurn.objects.create(
        conversation=conversation,
        index=1,
        user_input="and more",
        output_text="x" * 1000,
        response_id="resp_2",
        previous_response_id="resp_1",
        replayed=True,
    )

    response = admin_client.get(reverse("admin:llm_conversation_change", args=[conversation.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; hello" in html
    assert "<img src=x" not in html
    assert "resp_1" in html
    assert "resp_2" in html
    assert "x" * 1000 not in html  # long outputs are truncated in the inline


def test_conversation_inline_is_read_only(admin_client, user):
    conversation = Conversation.objects.create(title="Lead chat", provider="openai", model="gpt-4o-mini", user=user)
    ConversationTurn.objects.create(conversation=conversation, index=0, user_input="hi", output_text="hello")

    html = admin_client.get(reverse("admin:llm_conversation_change", args=[conversation.pk])).content.decode()

    assert 'name="turns-0-output_text"' not in html
    assert 'name="turns-0-DELETE"' not in html
    assert admin_client.get(reverse("admin:llm_conversation_add")).status_code == 403


def test_conversation_changelist_counts_turns(admin_client, user):
    for n in range(3):
        conversation = Conversation.objects.create(title=f"chat {n}", provider="openai", model="m", user=user)
        for i in range(n):
            ConversationTurn.objects.create(conversation=conversation, index=i, user_input="q", output_text="a")

    response = admin_client.get(reverse("admin:llm_conversation_changelist"))

    assert response.status_code == 200
    counts = {c.title: c.turn_count for c in response.context["cl"].result_list}
    assert counts == {"chat 0": 0, "chat 1": 1, "chat 2": 2}
