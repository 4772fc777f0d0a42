"""Synthetic model outputs for the demo of an accuracy study (issue 14): outputs_plan (plan.py) draws each
vertebra's probability of acute and Dice around the hidden truth (trial.demo.truth), and the stage
(stage.py) imports them through the real CSV import and locks the analysis."""

from .plan import Case, OutputRow, OutputsPlan, csv_bytes, outputs_plan
from .stage import reports_demo_stage

__all__ = ["Case", "OutputRow", "OutputsPlan", "csv_bytes", "outputs_plan", "reports_demo_stage"]
