"""Application materials (申请材料): uploaded supporting documents a business application needs."""
