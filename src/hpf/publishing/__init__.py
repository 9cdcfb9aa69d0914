"""Information publishing (信息发布): news, policies, guides and FAQs, published maker-checker."""
