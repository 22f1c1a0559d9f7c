select * from main.mart_latent_components
