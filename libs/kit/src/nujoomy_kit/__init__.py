"""Shared service kit: what every Nujoomy service needs and no service should write twice."""
