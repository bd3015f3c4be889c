"""Rankers for related papers: each scores every indexed paper against one query paper."""
