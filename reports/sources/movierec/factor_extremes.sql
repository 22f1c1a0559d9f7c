select * from main.mart_factor_extremes
