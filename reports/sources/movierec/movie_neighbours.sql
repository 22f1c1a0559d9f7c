select * from main.mart_movie_neighbours
