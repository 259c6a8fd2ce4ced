"""Helpline contact centre: anonymous chat and phone, one queue, a counsellor console."""
