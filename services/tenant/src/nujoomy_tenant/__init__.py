"""Nujoomy tenant service: Businesses, branded programs, staff and sign-in."""
