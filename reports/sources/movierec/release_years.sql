select * from main.mart_release_years
