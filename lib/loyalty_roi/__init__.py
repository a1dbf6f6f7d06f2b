"""Loyalty ROI Workbook helper library."""
