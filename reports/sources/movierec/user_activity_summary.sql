select * from main.mart_user_activity_summary
