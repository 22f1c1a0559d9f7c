select * from main.mart_long_tail
