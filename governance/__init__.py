"""Everything of org-governance that is not a Pulumi resource.

Configuration, AWS formats, the plan, policy builders, analysis and the command
line. Importing any module here never registers a resource.
"""
