with

factors as (
    {{ union_artifacts('movie', ['model_name', 'movie_id', 'bias', 'factors']) }}
)

select * from factors
