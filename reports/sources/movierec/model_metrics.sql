select * from main.model_metrics
