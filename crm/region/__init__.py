"""The region's structure: service groups, branches, employers and their workplaces."""
