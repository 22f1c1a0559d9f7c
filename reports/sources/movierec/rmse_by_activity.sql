select * from main.mart_rmse_by_activity
