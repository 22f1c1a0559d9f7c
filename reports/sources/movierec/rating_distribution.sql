select * from main.mart_rating_distribution
