select * from main.mart_component_genres
