with

factors as (
    {{ union_artifacts('user', ['model_name', 'user_id', 'bias', 'factors']) }}
)

select * from factors
