select * from main.mart_top_movies
