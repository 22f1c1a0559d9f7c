select * from main.mart_explorer_users
