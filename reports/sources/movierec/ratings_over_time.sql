select * from main.mart_ratings_over_time
