select * from main.mart_genre_recovery
