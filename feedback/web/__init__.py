"""What the blueprints' views share: running a decision, common forms and fields, the statistics page."""
