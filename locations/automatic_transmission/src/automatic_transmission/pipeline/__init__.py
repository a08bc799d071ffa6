"""The pipeline surface: the step op, the runner, reports, the jobs table and one module per step."""
