select * from main.mart_leaderboard
