select * from main.mart_dataset_overview
