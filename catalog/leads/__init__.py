"""Leads: job postings as sales leads (qualify, analyze, conversations, outreach drafts); filled by the leads issue."""
