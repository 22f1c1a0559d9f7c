select * from main.serving_config
